//! Rule tests of METHOD.md 2-9.
