"""A cache backend that is always down, like Redis stopped in the middle of a run."""

from django.core.cache.backends.base import BaseCache


class DownCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("cache server unreachable")

    get = set = add = delete = incr = get_many = set_many = delete_many = clear = has_key = touch = _fail
