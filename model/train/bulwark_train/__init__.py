"""Bulwark's model training package: the corpus (real benign traffic, the
synthetic generator, attacks per class, obfuscation, splits) and the
LightGBM trainer. Every random draw goes through an explicit
random.Random (or numpy Generator) seeded from the command line."""
