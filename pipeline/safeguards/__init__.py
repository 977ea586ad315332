"""Safeguards every other package relies on: the one SSN masking function (`masking`), the fault hooks
the restart and fault campaigns use (`faults`), and the disclosure policy (`disclosure`: which categories
of data an outbound record discloses, and on what legal basis).

The bottom layer: imports nothing of fpls. The cycle's disclose stage (pipeline/cycle/disclose.py)
applies the disclosure policy to the files it wrote.
"""
