"""A virtual Bluetooth LE oximeter: the peripheral model (`peripheral`), the bleak backend
that reaches it without a radio (`bleak_backend`), bumble's real GATT server for it
(`bumble_server`) and the command-line runner (`console`)."""
