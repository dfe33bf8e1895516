"""The request pipeline, framework-free: route, security, validation, preferences and overrides, `negotiate() ->
Decision` (which also says how its answer may be reused), then the producer. Plain data in (`MockRequest`) and out
(`Outcome`); below it only data/, the store protocols, serve's Config and contract/; nothing here sees ASGI."""
