"""The rules, one module each (nncxxx_<name>.py holding one Rule subclass); engine/rule_set.py finds them."""
