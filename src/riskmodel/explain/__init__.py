"""riskmodel.explain"""
