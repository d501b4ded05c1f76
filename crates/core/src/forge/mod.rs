//! Where promotions come from beyond a plain git repository. A local repository's
//! promotions are its branches (see `workspace`); a GitHub repository's are its open pull
//! requests, read and acted on through the REST API, with a local mirror for everything
//! git can answer.

pub mod github;
