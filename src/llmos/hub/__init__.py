"""llmos.hub"""
