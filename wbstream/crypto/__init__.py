"""PRG/XOF, modular and gadget arithmetic, SIS, GSW-style pseudorandom ciphertexts."""
