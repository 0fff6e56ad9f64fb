/**
 * The OpenAPI document of the built-in sample upstream (sample-upstream.ts), uploaded
 * by the demo seed so that a newcomer can try a call from the portal's docs page.
 * Kept as YAML text: it is imported exactly as an admin would upload it.
 */
export const SAMPLE_PETSTORE_OPENAPI = `openapi: 3.0.3
info:
  title: Sample Pet Store
  version: 1.0.0
  description: |
    A small sample API served by Gatehouse itself, to try the gateway and the portal.
    Every call needs an API key: request one from the catalogue entry page.
servers:
  - url: http://localhost:8090
    description: The built-in sample upstream (the portal shows the gateway instead)
tags:
  - name: pets
    description: Look up the pets of the store
paths:
  /pets:
    get:
      tags: [pets]
      operationId: listPets
      summary: List pets
      description: All pets, or only those with the given status.
      parameters:
        - name: status
          in: query
          required: false
          description: Only pets with this status
          schema:
            type: string
            enum: [available, sold]
      responses:
        '200':
          description: The pets
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Pet'
              example:
                - { id: 1, name: Rex, species: dog, status: available }
                - { id: 2, name: Tom, species: cat, status: available }
  /pets/{id}:
    get:
      tags: [pets]
      operationId: getPet
      summary: Get one pet
      parameters:
        - name: id
          in: path
          required: true
          description: The pet's id
          schema:
            type: integer
            minimum: 1
          example: 1
      responses:
        '200':
          description: The pet
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pet'
        '404':
          description: No pet with this id
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Error'
components:
  schemas:
    Pet:
      type: object
      required: [id, name, species, status]
      properties:
        id: { type: integer, example: 1 }
        name: { type: string, example: Rex }
        species: { type: string, example: dog }
        status: { type: string, enum: [available, sold] }
    Error:
      type: object
      properties:
        error: { type: string }
  securitySchemes:
    apiKey:
      type: apiKey
      in: header
      name: X-API-Key
security:
  - apiKey: []
`;
