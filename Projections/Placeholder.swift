/// The projections arrive with their own issue; this target keeps their place in the package.
public enum CumulusProjectionsPlaceholder {}
