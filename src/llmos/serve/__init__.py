"""llmos.serve"""
