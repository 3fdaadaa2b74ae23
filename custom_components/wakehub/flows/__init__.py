"""The wizard's steps, one module per kind of server, mixed into config_flow.py."""
