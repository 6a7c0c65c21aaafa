"""URL converters: ids in paths are bounded 64-bit integers, so a huge number is a 404."""

from werkzeug.routing import IntegerConverter

from service.schemas.common import MAX_ID


class IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
