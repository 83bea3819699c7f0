export default function SpaceRoutes(_: { path: string }) { return <p>Dreamspace</p>; }
