//! Rotary position embeddings (Llama family), computed as Hugging Face `transformers` does in fp32:
//! inverse frequencies once per session (with the config's scaling), the cosines and sines once per
//! position (shared by every layer and head), then the rotate-half kernel per head.

use crate::format::RopeScaling;
use crate::kernels;

/// `inv_freq[i] = 1 / theta^(2i / d)` for `i < d/2` (`inv_freq.len() == d / 2`), then scaled:
/// linear divides every frequency by the factor; Llama 3 divides the low frequencies by it, keeps
/// the high ones and blends in between (`transformers`' `_compute_llama3_parameters`).
pub(crate) fn inv_freq(inv_freq: &mut [f32], theta: f32, scaling: RopeScaling) {
    let d = (2 * inv_freq.len()) as f32;
    for (i, f) in inv_freq.iter_mut().enumerate() {
        *f = 1.0 / libm::powf(theta, (2 * i) as f32 / d);
    }
    match scaling {
        RopeScaling::None => {}
        RopeScaling::Linear { factor } => {
            for f in inv_freq.iter_mut() {
                *f /= factor;
            }
        }
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position } => {
            let old = original_max_position as f32;
            let (low_wavelen, high_wavelen) = (old / low_freq_factor, old / high_freq_factor);
            for f in inv_freq.iter_mut() {
                let wavelen = 2.0 * core::f32::consts::PI / *f;
                if wavelen > low_wavelen {
                    *f /= factor;
                } else if wavelen >= high_wavelen {
                    let smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                    *f = (1.0 - smooth) * *f / factor + smooth * *f;
                }
            }
        }
    }
}

/// `cos[i] = cos(pos * inv_freq[i])`, `sin[i] = sin(pos * inv_freq[i])`, each `[d/2]`.
pub(crate) fn angles(cos: &mut [f32], sin: &mut [f32], inv_freq: &[f32], pos: usize) {
    let p = pos as f32;
    for ((c, s), &f) in cos.iter_mut().zip(sin.iter_mut()).zip(inv_freq) {
        let a = p * f;
        *c = libm::cosf(a);
        *s = libm::sinf(a);
    }
}

/// Rotates every head of `x[n * d]` by the angles of one position (`cos`, `sin`: `[d/2]`).
pub(crate) fn rotate(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    let d = 2 * cos.len();
    if d == 0 {
        return;
    }
    for head in x.chunks_exact_mut(d) {
        kernels::rope_half(head, cos, sin);
    }
}
