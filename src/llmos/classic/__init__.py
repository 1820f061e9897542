"""llmos.classic"""
