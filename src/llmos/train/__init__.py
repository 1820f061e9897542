"""llmos.train"""
