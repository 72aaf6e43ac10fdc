"""Every change to a case goes through a function here: locked, permission-checked, recorded."""
