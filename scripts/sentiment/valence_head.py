"""A bag-of-words valence term beside the student's encoder (distill_student.py --valence-head).

Each token id has one learned number; a sentence's margin (positive minus negative logit) gets
the sum of its tokens' numbers (padding masked). Started from VADER's lexicon: a token that is a
whole word of the lexicon starts at gamma x its mean rating (-4..+4), every other token at 0. It
is the lexicon's word valences in a form the model can hold and tune, where the encoder has to
learn them from the sentences it happens to see.

Experimental: the core's blob format has no such tensor, so a student with it is only scored
here (f32), not quantized or bundled.
"""

import torch
from transformers import BertForSequenceClassification


class BertWithValence(BertForSequenceClassification):
    """BertForSequenceClassification whose logits get -/+ half the summed token valences."""

    def __init__(self, config):
        super().__init__(config)
        self.valence = torch.nn.Parameter(torch.zeros(config.vocab_size))  # [vocab]

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        out = super().forward(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        # [B, T] -> [B]: the sentence's summed valence
        margin = (self.valence[input_ids] * attention_mask.to(self.valence.dtype)).sum(-1)
        half = torch.tensor([-0.5, 0.5], dtype=out.logits.dtype, device=out.logits.device)
        out.logits = out.logits + margin[:, None] * half  # [B, 2]
        return out


def lexicon_init(tokens, lexicon, gamma):
    """[vocab] start values: gamma x VADER's rating for tokens that are lexicon words, else 0;
    and how many tokens got one."""
    init = torch.zeros(len(tokens))
    hits = 0
    for i, tok in enumerate(tokens):
        if tok in lexicon:
            init[i] = gamma * float(lexicon[tok])
            hits += 1
    return init, hits
