"""Game-theory solvers: CFR/CFR+/DCFR, exploitability, MCCFR blueprints, local best response."""
