"""riskmodel.fairness"""
