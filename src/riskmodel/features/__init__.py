"""riskmodel.features"""
