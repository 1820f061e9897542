"""llmos.infer"""
