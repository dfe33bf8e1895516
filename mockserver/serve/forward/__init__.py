"""Forwarding to a real server (`mockserver proxy`, `serve --upstream`): the proxy, the drift it finds against the
contract, and the recorder that learns fixtures. Imported only by the runtime shell and the CLI, and only when there
is an upstream (httpx costs a plain `serve` start)."""
