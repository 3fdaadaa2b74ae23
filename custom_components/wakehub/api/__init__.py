"""Platform clients for WakeHub, free of Home Assistant imports.

Each module talks to one kind of server (machine, Proxmox, Docker, OVHcloud) and
raises the errors of `errors.py`; the integration maps them to what users see.
"""
