"""The local stack: stand-ins for cloud services and helpers to run the pipeline on one machine."""
