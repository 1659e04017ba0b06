"""riskmodel.evaluation"""
