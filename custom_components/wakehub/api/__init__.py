"""Platform clients for WakeHub, free of Home Assistant imports.

One module or package per kind of server: `machine.py` (Wake-on-LAN, SSH),
`proxmox/`, `docker/` and `ovh/`, each raising the exceptions of `errors.py`
(the integration turns them into what users see). What the clients share lives
beside them: `http.py` (transport errors, bounded bodies, JSON), `fields.py`
(typed reading of answers), `tls.py` (verified or pinned certificates),
`backoff.py` (the pace of task polling) and `models.py` (the status vocabulary).
"""
