"""The dev server's endpoints, one module per API family; :mod:`levante.devserver.app`
assembles them into one Starlette app."""
