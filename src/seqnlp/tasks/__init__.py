"""Task pipelines: data -> vocabulary -> batches -> Trainer -> saved model.

The glue between datasets, text plumbing, models and the Trainer, so that each CLI command
and benchmark calls one function. Imports: tasks -> training, models, datasets, text.
"""
