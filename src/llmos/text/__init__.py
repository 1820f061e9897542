"""llmos.text"""
