use orchestore_domain::{
    Email, Name, NewOrganization, NewProject, NewUser, Organization, OrganizationId, Password,
    PasswordHash, Project, Slug, SystemRole, User,
};
use orchestore_repo::{Actor, Ctx, Store};

/// bcrypt's lowest cost: tests hash quickly, production uses `PasswordHash::DEFAULT_COST`.
pub const TEST_BCRYPT_COST: u32 = 4;

/// An organization with an owner, and the context the owner acts in.
pub struct Fixture {
    pub org: Organization,
    pub owner: User,
    pub ctx: Ctx,
}

impl Fixture {
    /// Creates organization `slug` and its owner `owner@<slug>.test` with `password`.
    pub async fn create<S: Store + ?Sized>(store: &S, slug: &str, password: &str) -> Self {
        let org_id = OrganizationId::new();
        let system = Ctx::system(org_id);
        let org = store
            .create_organization(
                &system,
                NewOrganization {
                    slug: Slug::parse("slug", slug).expect("fixture slug"),
                    name: Name::parse("name", &format!("Org {slug}")).expect("fixture name"),
                },
            )
            .await
            .expect("create organization");
        let password = Password::parse(password).expect("fixture password");
        let owner = store
            .create_user(
                &system,
                NewUser {
                    email: Email::parse(&format!("owner@{slug}.test")).expect("fixture email"),
                    username: None,
                    display_name: Name::parse("display_name", "Owner").expect("fixture name"),
                    password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                    roles: vec![SystemRole::Owner.into()],
                },
            )
            .await
            .expect("create owner");
        let ctx = Ctx::new(org.id, Actor::User(owner.id));
        Self { org, owner, ctx }
    }

    /// A project named `name` in this organization.
    pub async fn project<S: Store + ?Sized>(&self, store: &S, name: &str) -> Project {
        store
            .create_project(
                &self.ctx,
                NewProject {
                    name: Name::parse("name", name).expect("fixture project name"),
                    description: orchestore_domain::Description::empty(),
                    repository_url: None,
                    tags: orchestore_domain::Tags::default(),
                    settings: orchestore_domain::Metadata::default(),
                },
            )
            .await
            .expect("create project")
    }
}
