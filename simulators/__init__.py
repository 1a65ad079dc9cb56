"""Everything that stands in for a person or a device so the app can be tested without either:
the patient physiology model and its scenarios, trace replay and virtual devices.

May import `drivers` only; never `oxi_assist`.
"""
