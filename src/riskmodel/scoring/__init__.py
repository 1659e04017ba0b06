"""riskmodel.scoring"""
