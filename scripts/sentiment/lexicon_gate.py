"""VADER's compound score as an input of the student, weighted by a learned gate
(distill_student.py --lexicon-gate G).

The margin (positive minus negative logit) gets gate(h) x compound, where compound in [-1, 1] is
VADER's score of the whole text (without its emoji descriptions: the device has no emoji table)
and gate(h) = G x sigmoid(w . pooled + b) in [0, G] is read from the pooled [CLS] output. The
distillation targets are the teacher's margin + beta x compound with a beta per source (0 on
movie reviews, 12 on tweets): the student learns the teacher's part with its encoder and, with
the gate, how much of the lexicon each kind of text takes, where without the gate it has to
learn the lexicon's word valences from the sentences it sees.
"""

import os
import shutil

import torch
from transformers import BertForSequenceClassification
from transformers.modeling_outputs import SequenceClassifierOutput

from vader_golden import OUT as VADER_DIR, device_text

LEXICON = os.path.join(VADER_DIR, "lexicon.tsv")  # the entries the device can match


class BertWithLexiconGate(BertForSequenceClassification):
    """BertForSequenceClassification whose logits get -/+ half of gate(pooled) x compound."""

    def __init__(self, config, gate_max=None):
        super().__init__(config)
        self.gate_max = float(gate_max or config.lexicon_gate_max)
        config.lexicon_gate_max = self.gate_max  # saved in config.json for the converter
        self.lexicon_gate = torch.nn.Linear(config.hidden_size, 1)
        torch.nn.init.zeros_(self.lexicon_gate.weight)
        torch.nn.init.zeros_(self.lexicon_gate.bias)  # gate starts at G / 2 everywhere

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, compound=None,
                output_hidden_states=False, **kwargs):
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=token_type_ids, output_hidden_states=output_hidden_states)
        pooled = out.pooler_output                                    # [B, H]
        logits = self.classifier(self.dropout(pooled))                # [B, 2]
        if compound is not None:
            gate = self.gate_max * torch.sigmoid(self.lexicon_gate(pooled)).squeeze(-1)  # [B]
            half = torch.tensor([-0.5, 0.5], dtype=logits.dtype, device=logits.device)
            logits = logits + (gate * compound.to(logits.dtype))[:, None] * half
        return SequenceClassifierOutput(logits=logits, hidden_states=out.hidden_states)

    def gate(self, input_ids, attention_mask):
        """[B] the gate alone (for reports)."""
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=torch.zeros_like(input_ids))
        return self.gate_max * torch.sigmoid(self.lexicon_gate(out.pooler_output)).squeeze(-1)


def compounds(vader, texts):
    """[N] VADER's compound score of each text as the device computes it (src/lexicon/): emoji
    descriptions off (`no_emoji`), the text cut after its 128th word."""
    return torch.tensor([vader.polarity_scores(device_text(t))["compound"] for t in texts])


def save_lexicon(out_dir):
    """Puts the lexicon the converter reads (`picoformer quantize`) beside the checkpoint."""
    shutil.copyfile(LEXICON, os.path.join(out_dir, "lexicon.tsv"))


def no_emoji(vader):
    """The analyzer with its emoji table emptied: emoji stay characters, as the device reads them."""
    vader.emojis = {}
    return vader
