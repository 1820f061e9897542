"""llmos.nn"""
