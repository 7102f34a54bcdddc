/** One valid stretch routine as a content file's YAML, the smallest the schema accepts (line 7 is `minutes`). */
export const oneRoutineYaml = (id = 'test-stretch', title = 'Test') => `routines:
  - id: ${id}
    title: ${title}
    kind: stretch
    summary: A test.
    targets: [neck]
    minutes: 1
    equipment: [none]
    place: desk
    steps:
      - text: Do it.
        seconds: 10
    cautions: [Be careful.]
    source: Test.
    sources: ["NHS: Back pain"]
`;
