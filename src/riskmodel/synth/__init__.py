"""riskmodel.synth"""
