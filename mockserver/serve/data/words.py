"""The word lists realism.py reads: the words, names and cities values are made of, and the vocabularies a
field's name is matched against (whole words: see realism.py's rules)."""

from __future__ import annotations

WORDS = (
    "alpha amber apple atlas beacon birch bright canyon cedar cobalt comet coral crisp delta ember falcon fern "
    "forest garnet glade harbor hazel indigo iris jade juniper lantern lemon lilac maple meadow mint nebula north "
    "oak ocean olive onyx orbit pearl pine plum quartz rapid raven ridge river sage scarlet shadow silver solar "
    "spruce stone summit swift tango thunder tulip umber valley velvet violet willow winter zephyr"
).split()
FIRST = "Ada Grace Linus Alan Barbara Ken Margaret Dennis Radia Guido Katherine Tim Frances Donald Edsger".split()
LAST = (
    "Lovelace Hopper Torvalds Turing Liskov Thompson Hamilton Ritchie Perlman Rossum Johnson Berners-Lee Allen".split()
)
CITIES = "Amsterdam Lisbon Osaka Nairobi Montreal Tallinn Valparaiso Wellington Bergen Porto".split()

_PERSON = frozenset({"user", "users", "author", "owner", "member", "person", "people", "customer", "contact",
                     "account", "profile", "employee", "assignee", "creator", "reviewer", "actor", "sender",
                     "recipient", "committer", "student", "teacher", "patient", "admin", "maintainer"})  # fmt: skip
_REPO = frozenset({"repo", "repos", "repository", "repositories"})
_URL = frozenset({"url", "uri", "link", "href", "website", "homepage", "endpoint", "callback", "webhook", "permalink"})
_IMAGE = frozenset({"avatar", "photo", "picture", "icon", "logo", "thumbnail", "image", "img"})
_CONTAINER = frozenset({"container", "docker", "runtime", "sandbox", "oci", "registry"})
_TITLE = frozenset({"title", "summary", "subject", "label", "headline", "caption", "heading"})
_TEXT = frozenset({"description", "message", "msg", "text", "body", "content", "comment", "detail", "details",
                   "note", "notes", "reason", "bio", "about", "explanation", "prompt"})  # fmt: skip
_SECRET = frozenset({"key", "token", "secret", "password", "apikey", "passphrase", "credential", "credentials"})
_TIME = frozenset({"at", "date", "time", "timestamp", "datetime", "when", "since", "until"})
_COUNT = frozenset({"count", "total", "num", "number", "size", "length", "quantity", "entries", "connections"})
_TOTAL = frozenset({"count", "total", "num"})  # an integer kept equal to the length of the list beside it
_MAIN_LISTS = ("items", "results", "data", "entries", "records", "values", "content", "list", "nodes", "hits", "rows")
_EARLY = frozenset({"created", "started", "start", "begin", "begins", "opened", "issued", "first", "from", "since"})
_LATE = frozenset({"updated", "modified", "changed", "last", "ended", "end", "finished", "completed", "closed",
                   "deleted", "expires", "expiry", "expired", "until", "to", "resolved", "archived"})  # fmt: skip
_LIMITS = frozenset({("limit",), ("per", "page"), ("page", "size"), ("pagesize",), ("perpage",), ("max", "results"),
                     ("max", "items"), ("top",), ("take",), ("first",), ("size",), ("count",), ("n",)})  # fmt: skip


_STAMPS = frozenset({"created", "updated", "modified", "deleted", "started", "ended", "finished", "completed",
                     "closed", "resolved", "archived", "published", "issued", "expired", "timestamp", "ts", "epoch",
                     "mtime", "ctime", "atime"})  # fmt: skip
