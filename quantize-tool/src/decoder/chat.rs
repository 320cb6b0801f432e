//! The chat template of a checkpoint (Jinja, from `tokenizer_config.json`, `chat_template.jinja`
//! or the GGUF's `tokenizer.chat_template`), rendered once at conversion time for a single user
//! message with the generation prompt, and split around that message: the blob stores the text
//! before it and after it (section `tokenizer.chat`: prefix, a NUL byte, suffix), so that a
//! device wraps a prompt without a template engine.
//!
//! A template comes from the checkpoint, so it is untrusted: rendering runs on a fuel budget
//! (template instructions) and into a bounded buffer, so a template that loops for ever or
//! writes without end is an error, not a hang.

use std::io::{self, Write};

use anyhow::{bail, Context, Result};
use minijinja::{context, Environment, Error, ErrorKind};

/// Stands for the user's message while rendering (a private-use character no template emits).
const MESSAGE: &str = "\u{F8FF}";

/// Name of the blob section holding `prefix \0 suffix`.
pub const SECTION: &str = "tokenizer.chat";

/// Template instructions one rendering may execute. Real templates render one message in a
/// few hundred to a few thousand; nested loops over `range(100000)` run out at once.
pub const FUEL: u64 = 1_000_000;

/// Most bytes one rendering may produce (the wrapper around a single message).
pub const MAX_RENDERED: usize = 64 * 1024;

/// `(prefix, suffix)`: the template's rendering of one user message and the generation prompt,
/// split around the message.
pub fn prefix_suffix(template: &str, bos: &str, eos: &str) -> Result<(String, String)> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    env.add_template("chat", template).context("parsing the chat template")?;
    let messages = vec![context! { role => "user", content => MESSAGE }];
    let mut out = Bounded(Vec::new());
    env.get_template("chat")?
        .render_captured_to(
            context! { messages, add_generation_prompt => true, bos_token => bos, eos_token => eos },
            &mut out,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::WriteFailure => {
                anyhow::anyhow!("the chat template renders more than {MAX_RENDERED} bytes for one message")
            }
            ErrorKind::OutOfFuel => {
                anyhow::anyhow!("the chat template runs more than {FUEL} instructions for one message")
            }
            _ => anyhow::Error::new(e),
        })
        .context("rendering the chat template for one user message")?;
    let text = String::from_utf8(out.0).context("the chat template renders invalid UTF-8")?;
    let Some((prefix, suffix)) = text.split_once(MESSAGE) else {
        bail!("the chat template does not show the user's message");
    };
    if prefix.contains('\0') || suffix.contains('\0') || suffix.contains(MESSAGE) {
        bail!("the chat template repeats the message or renders a NUL byte");
    }
    Ok((prefix.to_string(), suffix.to_string()))
}

/// The section bytes of `(prefix, suffix)`.
pub fn section_bytes(prefix: &str, suffix: &str) -> Vec<u8> {
    [prefix.as_bytes(), b"\0", suffix.as_bytes()].concat()
}

/// A writer that fails once more than [`MAX_RENDERED`] bytes were written.
struct Bounded(Vec<u8>);

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED {
            return Err(io::Error::other("chat template output too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHATML: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn a_chatml_template_splits_around_the_message() {
        let (prefix, suffix) = prefix_suffix(CHATML, "<s>", "</s>").unwrap();
        assert!(prefix.starts_with("<|im_start|>system\n"), "{prefix:?}");
        assert!(prefix.ends_with("<|im_start|>user\n"), "{prefix:?}");
        assert_eq!(suffix, "<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn an_endless_template_runs_out_of_fuel() {
        let template = "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}\
                        {% endfor %}{% endfor %}{{ messages[0]['content'] }}";
        let err = format!("{:#}", prefix_suffix(template, "", "").unwrap_err());
        assert!(err.contains("instructions for one message"), "{err}");
    }

    #[test]
    fn a_template_writing_without_end_is_refused() {
        let template = "{{ messages[0]['content'] }}{% for a in range(1000) %}{{ 'x' * 1000 }}{% endfor %}";
        let err = format!("{:#}", prefix_suffix(template, "", "").unwrap_err());
        assert!(err.contains("more than 65536 bytes"), "{err}");
    }

    #[test]
    fn a_template_without_the_message_is_refused() {
        let err = format!("{:#}", prefix_suffix("hello", "", "").unwrap_err());
        assert!(err.contains("does not show the user's message"), "{err}");
    }
}
