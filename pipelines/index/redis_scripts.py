"""The Lua scripts of the Redis index, read once from ``lua/`` with the layout filled in."""

from __future__ import annotations

import functools
import re
from importlib import resources

import redis
from redis.commands.core import Script

from pipelines.index.redis_codec import LUA_CONSTANTS

_CONSTANT = re.compile(r"@[A-Z]+@")

# Each script, and whether it starts with the prelude (pending state, slots, buckets).
SCRIPTS = {
    "claim_original": True,
    "commit_original": True,
    "drop_doc": True,
    "record_article": True,
    "replace_text": True,
    "plan_near_floor": False,
    "raise_near_floor": False,
    "unband_below_floor": False,
    "release_url": False,
    "forget_urls": False,
}


def _read(name: str) -> str:
    return resources.files("pipelines.index").joinpath("lua", f"{name}.lua").read_text("utf-8")


@functools.cache
def lua_source(name: str) -> str:
    """Return the source of a script: the prelude first if it uses it, constants filled in."""
    source = (_read("prelude") + "\n" if SCRIPTS[name] else "") + _read(name)
    for constant, value in LUA_CONSTANTS.items():
        source = source.replace(f"@{constant}@", str(value))
    missing = _CONSTANT.search(source)
    if missing:
        raise ValueError(f"lua/{name}.lua uses {missing[0]}, which redis_codec.py does not define")
    return source


def register_scripts(client: redis.Redis) -> dict[str, Script]:
    """Register every script on a client (each is sent by SHA, loaded on first use)."""
    return {name: client.register_script(lua_source(name)) for name in SCRIPTS}
