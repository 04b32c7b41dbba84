"""Strategy data access: none yet, because the strategy domain stores nothing (see entities.py).

The registry lives in memory (``service_impl.StrategyRegistry``), seeded by the factory.
"""
