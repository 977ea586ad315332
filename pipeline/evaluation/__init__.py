"""Evaluation against truth, in one place: pair metrics (`metrics`), the truth file of a generated home
(`truth`), and the scores `fpls eval` prints for the cycle's sources (`cycle`) and the enforcement
exchanges (`enforcement`). Reads the store; never changes it.
"""
