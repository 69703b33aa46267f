"""The model: params files (load, layer), the model graph and its distributions, expressions and questions."""
