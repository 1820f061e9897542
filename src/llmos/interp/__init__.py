"""llmos.interp"""
