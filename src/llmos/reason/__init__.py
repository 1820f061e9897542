"""llmos.reason"""
