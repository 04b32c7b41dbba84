"""Strategy domain objects: none beyond the public types, because the domain stores nothing.

There are no rows to map (see entities.py). Each strategy's parameter model is a pydantic model
in its own module under ``builtin/``, next to the rules it validates.
"""
