"""llmos.agent"""
