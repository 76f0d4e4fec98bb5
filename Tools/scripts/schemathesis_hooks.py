"""Schemathesis hooks for Tools/scripts/schemathesis.sh: send JSON Lines bodies (the batch route) as text."""
import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson_serializer(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf-8")}
