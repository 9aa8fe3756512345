"""The gateway's JSON bodies, encoded by orjson.

Flask's provider encodes with the json module: on a page of 20 customers that was 93 us of a
request's CPU, orjson's 9. A body is the same JSON, byte for byte but for how a number below
1e-4 is spelled (``0.00001`` for ``1e-05``, the same number): keys in the order given (problem
fields in the RFC's), text beyond ASCII as UTF-8 (Chinese readable as sent), and what JSON has
no type for (dates, decimals, lazy text) written by Flask's own ``default``. Whatever orjson
refuses (an integer past 64 bits, kept in a custom field) is encoded by Flask's provider
instead, as are the indented bodies of debug mode. Only response bodies (``jsonify``) change:
``flask.json.dumps`` is the json module's still.
"""
from __future__ import annotations

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME  # Flask writes a date as an HTTP date
            | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS)


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False
    ensure_ascii = False

    def response(self, *args, **kwargs):
        """As Flask's ``jsonify``: a body of the arguments, compact, ending in a newline."""
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encoded(obj) + b"\n", mimetype=self.mimetype)

    def _encoded(self, obj) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().dumps(obj, separators=(",", ":")).encode()
