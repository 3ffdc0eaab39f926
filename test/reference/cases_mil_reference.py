"""PyTorch reference of aplnet's case model pooling (src/model/mil-gated-attention.ts): gated attention
MIL after Ilse, Tomczak & Welling (ICML 2018), written from the paper's equations, not from aplnet.

usage: cases_mil_reference.py CONFIG.json WEIGHTS.safetensors BAG.safetensors OUT.safetensors
Loads aplnet's weights with strict=True, runs the bag in eval mode, writes logits [C] and weights [K].
"""
import json
import sys

import torch
from torch import nn

from safetensors_io import load_file, save_file


class GatedAttentionMil(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, attention_dim, num_classes, dropout):
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(embedding_dim))
        self.register_buffer("input_scale", torch.ones(embedding_dim))
        self.project = nn.Linear(embedding_dim, hidden_dim)
        self.attention_V = nn.Linear(hidden_dim, attention_dim)
        self.attention_U = nn.Linear(hidden_dim, attention_dim)
        self.attention_w = nn.Linear(attention_dim, 1, bias=False)
        self.classifier = nn.Linear(hidden_dim, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h):
        x = self.dropout(torch.relu(self.project((h - self.input_mean) / self.input_scale)))
        # a_k = softmax_k(w^T (tanh(V x_k) * sigm(U x_k)))
        a = self.attention_w(torch.tanh(self.attention_V(x)) * torch.sigmoid(self.attention_U(x)))
        a = torch.softmax(a.squeeze(1), dim=0)
        z = a @ x
        return self.classifier(z), a


def main():
    config_path, weights_path, bag_path, out_path = sys.argv[1:5]
    torch.set_num_threads(1)
    c = json.load(open(config_path))
    model = GatedAttentionMil(c["embeddingDim"], c["hiddenDim"], c["attentionDim"], c["numClasses"], c["dropout"])
    model.load_state_dict(load_file(weights_path), strict=True)
    model.eval()
    with torch.no_grad():
        logits, weights = model(load_file(bag_path)["bag"])
    save_file({"logits": logits, "weights": weights}, out_path)


if __name__ == "__main__":
    main()
