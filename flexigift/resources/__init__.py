"""The API's resources: one module per kind, each an :class:`~.base.Endpoint`."""
