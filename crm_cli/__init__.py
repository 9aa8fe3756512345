"""``crm``: the operators' command, importing and exporting customers and leads.

A client of the public HTTP API only (``/api/v1``), with nothing of the server imported: it
runs wherever Python does, against any deployment, and does exactly what the API lets the
signed-in user do. Standard library only.
"""
